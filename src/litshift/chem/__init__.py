"""litshift.chem"""
