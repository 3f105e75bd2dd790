"""Talking to AWS: sessions, clients, retries and the translation of botocore errors into gate's."""
