"""The serving image: is it in this region's registry, where SageMaker will look for it?

`doctor`'s image check, reading the image's manifest (ecr:BatchGetImage) and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from {{ cookiecutter.__package }} import aws, config
from {{ cookiecutter.__package }}.infra.doctor import Context, Result, error_code, failed, passed

# registry.dkr.ecr.region.amazonaws.com[.cn]/repository[:tag][@digest]
ECR_IMAGE = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


def serving_image(ctx: Context) -> Iterator[Result]:
    """The image the endpoints serve is in this region's SageMaker registry.

    The image named by the newest model package (what a deploy serves), or before any package,
    the one the pipeline will register (the SageMaker SDK's image_uris, slow to import). This
    reads the image's manifest with the caller's credentials (ecr:BatchGetImage): it shows the
    image exists where SageMaker will look. SageMaker itself pulls its prebuilt images with
    service-owned credentials ("Docker Registry Paths and Example Code", SageMaker developer
    guide), so whether the container then starts and passes its health check only a deploy shows.
    """
    name = "serving image"
    arn = ctx.facts.get("newest package")
    if arn:
        package = ctx.client("sagemaker").describe_model_package(ModelPackageName=arn)
        image = package["InferenceSpecification"]["Containers"][0]["Image"]
        source = f"version {package['ModelPackageVersion']}"
    else:
        try:
            from {{ cookiecutter.__package }}.training.definition import image_uri
        except ModuleNotFoundError as error:
            yield failed(
                name,
                f"no version registered yet, and the SageMaker SDK that names the image is "
                f"not installed ({error.name})",
                "uv sync --group pipeline (or make install), then run doctor again",
            )
            return
        image, source = image_uri(), "the pipeline's (SageMaker SDK)"
    parts = ECR_IMAGE.match(image)
    if parts is None:
        yield failed(name, f"{source} names {image}, not an ECR image", "retrain to register one")
        return
    if parts["region"] != config.AWS_REGION:
        # Model images must be in the region of the model and endpoint (ContainerDefinition).
        yield failed(
            name,
            f"{source} names {image}, in {parts['region']}; endpoints here need "
            f"{config.AWS_REGION}",
            "retrain in this region so the package names this region's image",
        )
        return
    image_id = {"imageDigest": parts["digest"]} if parts["digest"] else {"imageTag": parts["tag"]}
    ecr = ctx.client("ecr")
    try:
        found = ecr.batch_get_image(
            registryId=parts["registry"], repositoryName=parts["repository"], imageIds=[image_id]
        )
    except aws.ClientError as error:
        if error_code(error) != "RepositoryNotFoundException":
            raise
        found = {"images": [], "failures": [{"failureReason": "no such repository"}]}
    if not found["images"]:
        reasons = ", ".join(f.get("failureReason", "") for f in found.get("failures", []))
        yield failed(
            name,
            f"{source} names {image}, which this region's registry does not have ({reasons})",
            "check SKLEARN_FRAMEWORK_VERSION in config.py against SageMaker's scikit-learn images",
        )
        return
    yield passed(name, f"{image} ({source}) exists")
