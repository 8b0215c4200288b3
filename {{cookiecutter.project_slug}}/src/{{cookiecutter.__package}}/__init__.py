"""{{ cookiecutter.project_name }}: train, register and deploy a scikit-learn model with SageMaker."""
