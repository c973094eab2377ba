"""Automated messages: flows, the send gate, sending, the message log, consent, provider
events, attribution and stats."""
