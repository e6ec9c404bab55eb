"""litshift.model"""
