"""Libraries for code that runs agents and workflows against the same tables: state, workflows, memory.

They import nothing from the HTTP layer; workflow and memory persist through `service.storage`.
"""
