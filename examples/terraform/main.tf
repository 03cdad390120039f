# An order-processing service: a queue, a bucket, and a worker role built by a local module.

terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "env" {
  type    = string
  default = "dev"
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  prefix = "orders-${var.env}"
}

resource "aws_s3_bucket" "invoices" {
  bucket = "${local.prefix}-invoices-${data.aws_caller_identity.current.account_id}"
}

resource "aws_sqs_queue" "jobs" {
  name = "${local.prefix}-jobs"
}

resource "aws_kms_key" "invoices" {
  description = "invoice encryption"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "KeyAdministrators"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/key-admins" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

module "worker" {
  source      = "./modules/worker"
  name        = "${local.prefix}-worker"
  bucket_arn  = aws_s3_bucket.invoices.arn
  queue_arns  = [aws_sqs_queue.jobs.arn]
  kms_key_arn = aws_kms_key.invoices.arn
}

output "worker_role_arn" {
  value = module.worker.role_arn
}

# Each uploaded invoice becomes a job. S3 validates the destination when the notification is
# created: without an aws_sqs_queue_policy letting s3.amazonaws.com send from this bucket, the apply
# fails ("Unable to validate the following destination configurations"; iamgate check finds it
# without a manifest: IG2201).
resource "aws_s3_bucket_notification" "invoices" {
  bucket = aws_s3_bucket.invoices.id

  queue {
    queue_arn     = aws_sqs_queue.jobs.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "incoming/"
  }
}
