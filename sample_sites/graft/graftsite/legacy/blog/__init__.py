"""The legacy blog app (URL namespace ``blog``)."""
