"""The engine: torch only. It never imports pygame or moderngl."""
