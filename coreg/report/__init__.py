"""Reports: HTML session and study reports built from recordings and the engine's results."""
