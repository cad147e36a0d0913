from .store import ConcurrencyConflict, EventStore, create_pool, record, write_outbox

__all__ = ["ConcurrencyConflict", "EventStore", "create_pool", "record", "write_outbox"]
