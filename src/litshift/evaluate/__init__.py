"""litshift.evaluate"""
