"""Browser runs: launching Chromium and driving one fresh context per run."""
