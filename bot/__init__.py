"""The platform-neutral async bot core, its commands, and the Slack, Discord and console adapters."""
