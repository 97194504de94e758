"""python -m workbench.teachers build [NAME ...]   retrain the shipped digits teachers
python -m workbench.teachers list                 the teachers and their recipes"""
from .._cli import main
from . import RECIPES, build_shipped

if __name__ == "__main__":
    main(__doc__, RECIPES, build_shipped)
