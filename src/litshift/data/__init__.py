"""litshift.data"""
