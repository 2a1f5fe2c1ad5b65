"""Moving sessions out of and into databases (extension `portability`): the `export`, `import` and `copy` commands."""
