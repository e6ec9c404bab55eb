"""litshift.ingest"""
