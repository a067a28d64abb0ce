"""Transports: each turns platform payloads into Events and Replies into platform payloads."""
