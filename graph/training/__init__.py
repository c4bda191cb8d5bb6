"""The training room: trainer, events, optimizers, schedules, metrics, checkpoints, datasets."""
