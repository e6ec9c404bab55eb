"""litshift.report"""
