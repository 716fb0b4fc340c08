"""Validation limits (the same as MLflow's) and liveness timings shared by writer and readers."""

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 5000
MAX_NAME_LENGTH = 250

#: A live run's writer stamps ``heartbeat_time`` at least this often.
HEARTBEAT_INTERVAL_S = 5.0
#: A RUNNING run without a heartbeat for this long reads back as CRASHED (from any host).
#: On the writer's own host a dead pid is detected at once.
HEARTBEAT_STALE_S = 20.0
