"""Training: the loop (loop.py), and what keeps a run exact, safe and fast beside it."""
