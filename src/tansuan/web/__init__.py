"""The FastAPI app: API routes (one module per resource), problem-details errors."""
