"""A SOQL compiler for the emulator: parses a query and translates it into SQLite SQL.

The server runs ``SELECT <columns> FROM <table> WHERE <where_sql> ORDER BY <order_sql>
LIMIT/OFFSET`` with the compiled parameters; see :func:`compile_soql`.
"""

from sf_emulator.soql.compiler import CompiledQuery, compile_soql
from sf_emulator.soql.errors import SoqlError
from sf_emulator.soql.objects import FieldDef, ObjectDef

__all__ = ["CompiledQuery", "FieldDef", "ObjectDef", "SoqlError", "compile_soql"]
