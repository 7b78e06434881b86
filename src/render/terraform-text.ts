/**
 * Text placed in Terraform configuration. Terraform reads every string as a template, so a shell script's `${HOME}`
 * would be taken for an interpolation: these functions escape what Terraform would otherwise evaluate. cdktf leaves
 * plain strings as they are (its `Fn.rawString` escapes neither `%{` nor backslashes).
 */

/** `text` as a Terraform string value that evaluates to exactly `text`: `${` and `%{` escaped as `$${` and `%%{`. */
export function terraformLiteral(text: string): string {
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/** The text a Terraform string literal evaluates to: the inverse of `terraformLiteral` (`$${` and `%%{` unescaped). */
export function terraformLiteralText(literal: string): string {
  return literal.replace(/\$\$\{/g, () => "${").replace(/%%\{/g, () => "%{");
}

/** `text` as a quoted string in a Terraform expression (HCL native syntax), evaluating to exactly `text`. */
function hclQuoted(text: string): string {
  const escapes: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" };
  return `"${terraformLiteral(text.replace(/[\\"\n\r\t]/g, (c) => escapes[c]))}"`;
}

/**
 * An expression that Terraform evaluates to `text` gzipped and base64-encoded (for `user_data_base64`): EC2 allows
 * 16 KB of user data, and cloud-init reads gzipped user data. The text stays readable in the synthesized JSON.
 */
export function base64GzipExpression(text: string): string {
  return `\${base64gzip(${hclQuoted(text)})}`;
}

/** The text inside a `base64GzipExpression`, or undefined for anything else. */
export function textOfBase64GzipExpression(expression: string): string | undefined {
  const match = /^\$\{base64gzip\("((?:[^"\\]|\\.)*)"\)\}$/s.exec(expression);
  if (!match) return undefined;
  const unescapes: Record<string, string> = { "\\\\": "\\", '\\"': '"', "\\n": "\n", "\\r": "\r", "\\t": "\t", "$${": "${", "%%{": "%{" };
  return match[1].replace(/\\[\\"nrt]|\$\$\{|%%\{/g, (s) => unescapes[s]);
}
