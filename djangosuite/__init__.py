"""Django's own test suite run against dbpool's ENGINE and the stock one (issue 8)."""
