"""The model's code: ML steps, SageMaker pipeline, promotion and the command line."""
