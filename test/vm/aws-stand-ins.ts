import { randomBytes } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

/** One request a node made to a stand-in, for the test's log (never a secret value). */
export interface StandInRequest {
  readonly node: number;
  readonly service: "imds" | "ssm" | "s3";
  readonly what: string;
  readonly status: number;
}

export interface AwsStandInOptions {
  readonly region: string;
  /** The instance role whose (made-up) credentials IMDS hands out. */
  readonly roleName: string;
  /** SSM parameters by name: SecureString values the nodes may read. */
  readonly parameters: ReadonlyMap<string, string>;
  /**
   * The HTTPS endpoint's certificate and key (PEM), for ssm.<region>.amazonaws.com and s3.<region>.amazonaws.com,
   * signed by the test CA.
   */
  readonly tls: { readonly cert: string; readonly key: string };
}

/** Ports on 127.0.0.1 that one node's guestfwd rules lead to. */
export interface NodeEndpoints {
  readonly imdsPort: number;
  readonly ssmPort: number;
}

const body = (req: http.IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (text += chunk));
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });

const listen = (server: http.Server) =>
  new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });

/**
 * What EC2 gives an instance and a VM lacks, served by the test on 127.0.0.1, one pair of servers per node so that
 * the log says which node asked: the instance metadata service (IMDSv2: a token from PUT /latest/api/token, then
 * GETs carrying it: region, availability zone, instance id, the role's credentials) and an SSM endpoint over HTTPS
 * answering AmazonSSM.GetParameter (JSON 1.1) from the parameters the test holds, 400 ParameterNotFound otherwise.
 * Request signatures are not checked. The same HTTPS server answers as S3 (by the Host header): it has no object,
 * since AWS's packages (the SSM Agent) cannot be downloaded here, and answers every GET 404 NoSuchKey, logged.
 */
export class AwsStandIns {
  readonly requests: StandInRequest[] = [];
  private readonly servers: http.Server[] = [];

  constructor(private readonly options: AwsStandInOptions) {}

  /** Starts node `node`'s servers. */
  async listen(node: number, instance: { readonly instanceId: string; readonly availabilityZone: string }): Promise<NodeEndpoints> {
    const imds = http.createServer((req, res) => void this.imds(node, instance, req, res));
    const ssm = https.createServer({ cert: this.options.tls.cert, key: this.options.tls.key }, (req, res) => void this.ssm(node, req, res));
    this.servers.push(imds, ssm);
    return { imdsPort: await listen(imds), ssmPort: await listen(ssm) };
  }

  private readonly tokens = new Set<string>();

  private async imds(
    node: number,
    instance: { readonly instanceId: string; readonly availabilityZone: string },
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    await body(req);
    const url = req.url ?? "";
    const answer = (status: number, text: string, type = "text/plain") => {
      this.requests.push({ node, service: "imds", what: `${req.method} ${url}`, status });
      res.writeHead(status, { "content-type": type }).end(text);
    };
    if (req.method === "PUT" && url === "/latest/api/token") {
      if (!req.headers["x-aws-ec2-metadata-token-ttl-seconds"]) return answer(400, "missing token TTL");
      const token = randomBytes(24).toString("base64");
      this.tokens.add(token);
      return answer(200, token);
    }
    if (req.method !== "GET") return answer(405, "");
    if (!this.tokens.has(String(req.headers["x-aws-ec2-metadata-token"] ?? ""))) return answer(401, "");
    const role = this.options.roleName;
    const now = new Date();
    const metadata: Record<string, () => [string, string?]> = {
      "/latest/meta-data/placement/region": () => [this.options.region],
      "/latest/meta-data/placement/availability-zone": () => [instance.availabilityZone],
      "/latest/meta-data/instance-id": () => [instance.instanceId],
      "/latest/meta-data/iam/security-credentials/": () => [role],
      "/latest/meta-data/iam/security-credentials": () => [role],
      [`/latest/meta-data/iam/security-credentials/${role}`]: () => [
        JSON.stringify({
          Code: "Success",
          LastUpdated: now.toISOString().replace(/\.\d+Z$/, "Z"),
          Type: "AWS-HMAC",
          AccessKeyId: "ASIAVMTESTVMTESTVMTE",
          SecretAccessKey: randomBytes(30).toString("base64"),
          Token: randomBytes(60).toString("base64"),
          Expiration: new Date(now.getTime() + 6 * 3600_000).toISOString().replace(/\.\d+Z$/, "Z"),
        }),
        "application/json",
      ],
      "/latest/dynamic/instance-identity/document": () => [
        JSON.stringify({ region: this.options.region, availabilityZone: instance.availabilityZone, instanceId: instance.instanceId }),
        "application/json",
      ],
    };
    const found = metadata[url];
    if (!found) return answer(404, "");
    const [text, type] = found();
    return answer(200, text, type);
  }

  private async ssm(node: number, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const text = await body(req);
    if (String(req.headers.host ?? "").startsWith(`s3.${this.options.region}.amazonaws.com`)) {
      this.requests.push({ node, service: "s3", what: `${req.method} ${req.url}`, status: 404 });
      res.writeHead(404, { "content-type": "application/xml" }).end("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>");
      return;
    }
    const target = String(req.headers["x-amz-target"] ?? "");
    const answer = (status: number, what: string, reply: unknown) => {
      this.requests.push({ node, service: "ssm", what, status });
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify(reply));
    };
    if (req.method !== "POST" || target !== "AmazonSSM.GetParameter") {
      return answer(400, `${req.method} ${target}`, { __type: "UnknownOperationException", message: `${target} is not served by the test` });
    }
    const name = String((JSON.parse(text || "{}") as { Name?: unknown }).Name ?? "");
    const value = this.options.parameters.get(name);
    if (value === undefined) return answer(400, `GetParameter ${name}`, { __type: "ParameterNotFound", message: `${name} not found` });
    return answer(200, `GetParameter ${name}`, {
      Parameter: {
        Name: name,
        Type: "SecureString",
        Value: value,
        Version: 1,
        LastModifiedDate: Date.now() / 1000,
        ARN: `arn:aws:ssm:${this.options.region}:123456789012:parameter${name}`,
        DataType: "text",
      },
    });
  }

  /** Closes every server. */
  async close(): Promise<void> {
    await Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      })),
    );
  }
}
