/** Names of AWS things that the spec and the renderers check, each written once. */

/** An AWS region's name, such as eu-west-1, unanchored: to be placed inside a larger pattern, such as an ARN's. */
export const AWS_REGION_PATTERN = String.raw`[a-z]{2}(-[a-z]+)+-\d`;

/** A whole AWS region's name, such as eu-west-1. */
export const AWS_REGION = new RegExp(`^${AWS_REGION_PATTERN}$`);

/** The ARN of a standard SNS topic, such as arn:aws:sns:eu-west-1:123456789012:redis-ha-events. */
export const SNS_TOPIC_ARN = new RegExp(String.raw`^arn:aws(-[a-z]+)*:sns:${AWS_REGION_PATTERN}:\d{12}:[A-Za-z0-9_-]{1,256}$`);
