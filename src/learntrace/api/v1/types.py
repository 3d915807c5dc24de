"""Value types shared by the operations: ids that fit a database integer, and text without
NUL characters (which PostgreSQL cannot store), so that no input reaches the database unchecked."""

from typing import Annotated

from pydantic import Field

Id = Annotated[int, Field(ge=1, le=2**53)]
NO_NUL = r"^[^\x00]*$"
Key = Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL)]
Text = Annotated[str, Field(max_length=1000, pattern=NO_NUL)]
