"""The metering service: usage from the other services' notifications, hour by hour, and what it costs."""
