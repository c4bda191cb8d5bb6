"""Qt-free view data: step replay, filter mosaics (what the GUI draws, computed headless)."""
