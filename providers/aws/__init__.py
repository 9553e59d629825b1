"""AWS adapter (boto3). Per service modules: ec2, autoscaling, elbv2, route53, rds, s3."""

from providers.aws.adapter import SERVICES, AwsAdapter

__all__ = ["SERVICES", "AwsAdapter"]
