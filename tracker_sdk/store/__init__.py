"""Private: the SQL store. Only ``tracker_sdk`` itself imports from here; the app never does."""
