"""Security audit trail (安全审计): who did what, to what, from where, with what outcome.

``record_event(session, ...)`` appends in the caller's transaction; ``record_event_now(sessionmaker,
...)`` in its own (for failures whose request rolls back).
"""

from app.audittrail.service import record_event, record_event_now

__all__ = ["record_event", "record_event_now"]
