"""litshift.train"""
