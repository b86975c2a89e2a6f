/// What every build leaves out before the project's own .fairignore is read: version control,
/// caches that tools rebuild, and Finder litter. None of it belongs in an image, and a cache can
/// be gigabytes. A project's .fairignore can re-include any of them with `!pattern`.
public enum DefaultIgnores {
    public static let patterns = [
        ".git", "**/__pycache__", "**/*.pyc", "**/.ipynb_checkpoints",
        "**/.tox", "**/.nox", "**/.mypy_cache", "**/.pytest_cache", "**/.ruff_cache", "**/.DS_Store",
    ]

    /// The file `python -m venv` (and virtualenv, uv, poetry) writes at a virtualenv's root. A
    /// virtualenv holds the build machine's interpreter and packages, which cannot run in the image
    /// (the deps layer comes from requirements.txt), so such directories are left out too.
    public static let virtualenvMarker = "pyvenv.cfg"
}
