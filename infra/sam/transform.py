"""Expands a SAM template with the SAM translator, offline, and writes the
plain CloudFormation template it becomes.

    python transform.py template.yaml out.json

The translator is what CloudFormation runs at deploy time; running it here
finds the errors that only show in the expansion (a Ref to a resource that
does not exist inside an event, say). Managed policies are named by ARN in
the template, so no lookup of policy names in IAM is needed.
"""

import json
import os
import sys

# The translator asks boto3 for a region to fill AWS::Region and the
# partition; nothing region-specific is checked here, and no AWS call is made.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicyNames:
    """Answers every policy-name lookup with nothing: the template must use ARNs."""

    def load(self):
        return {}


def main(src, dst):
    with open(src, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    # The translator takes packaged templates: stand an S3 object in for each
    # local CodeUri, as `sam package` and `sam deploy` do after the upload.
    for name, res in template.get("Resources", {}).items():
        props = res.get("Properties", {})
        uri = props.get("CodeUri")
        if res.get("Type") == "AWS::Serverless::Function" and isinstance(uri, str) \
                and not uri.startswith("s3://"):
            props["CodeUri"] = f"s3://ward-validate/{name}.zip"
    try:
        expanded = transform(template, {}, NoManagedPolicyNames())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"{src}: {cause.message}", file=sys.stderr)
        return 1
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(expanded, f, indent=1, sort_keys=True)
    print(f"sam translator: {len(expanded['Resources'])} resources in the expansion")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
