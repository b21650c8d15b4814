"""Your data: export and import (Parley's own archive, a Slack workspace), backups, retention."""
