"""The running room: the engine, conv-pool fusion, backends, process tuning and gradcheck."""
