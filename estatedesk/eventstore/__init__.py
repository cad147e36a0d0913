from .store import ConcurrencyConflict, EventStore, create_pool, write_outbox

__all__ = ["ConcurrencyConflict", "EventStore", "create_pool", "write_outbox"]
