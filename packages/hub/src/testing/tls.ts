/** A throwaway TLS certificate for tests, from the independent `openssl` command. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

/** Writes a self-signed P-256 certificate for localhost (valid one day) into `dir`. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"].concat([
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
    ]),
    { stdio: "ignore" },
  );
  return { cert, key };
}
