"""The health page: is this sandbox's messaging setup healthy right now?"""
