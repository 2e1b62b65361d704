"""One page per task in the left navigation."""
