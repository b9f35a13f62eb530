"""Retry with exponential backoff and a circuit breaker, shared by the estate's services."""

from .breaker import CircuitBreaker, CircuitOpenError
from .backoff import RetryError, retry

__all__ = ["CircuitBreaker", "CircuitOpenError", "RetryError", "retry"]
