"""The Glue assets package: crawls the AWS Glue Data Catalog into catalog assets."""
