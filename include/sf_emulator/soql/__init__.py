"""A SOQL compiler for the emulator: parses a query and translates it into SQLite SQL."""

from sf_emulator.soql.objects import FieldDef, ObjectDef

__all__ = ["FieldDef", "ObjectDef"]
