"""python -m workbench.llm build [NAME ...]   pretrain the shipped language models (teachers and the base student)
python -m workbench.llm list                 the models and their recipes"""
from .._cli import main
from .pretrained import RECIPES, build_shipped

if __name__ == "__main__":
    main(__doc__, RECIPES, build_shipped, width=10)
