"""Events from the platform: their types, intake, projections, the event log, routing to runs."""
