"""The two-way task sync between Sales Connect and Salesforce (all logic; DAGs only wire it)."""
