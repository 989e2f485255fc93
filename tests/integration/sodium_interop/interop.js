// Reads one JSON request on stdin, answers one JSON object on stdout.
// Keys and messages travel as standard base64, as GitHub's API has them.
//   {"op": "keypair"}                                  -> {"publicKey", "privateKey"}
//   {"op": "seal", "publicKey", "message"}             -> {"sealed"}
//   {"op": "open", "publicKey", "privateKey", "sealed"} -> {"message"} or {"error"}
const sodium = require('libsodium-wrappers');

const b64 = sodium.base64_variants.ORIGINAL;

async function main() {
  await sodium.ready;
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const req = JSON.parse(input);
  const from = (s) => sodium.from_base64(s, b64);
  const to = (bytes) => sodium.to_base64(bytes, b64);
  let reply;
  if (req.op === 'keypair') {
    const kp = sodium.crypto_box_keypair();
    reply = { publicKey: to(kp.publicKey), privateKey: to(kp.privateKey) };
  } else if (req.op === 'seal') {
    reply = { sealed: to(sodium.crypto_box_seal(from(req.message), from(req.publicKey))) };
  } else if (req.op === 'open') {
    try {
      const opened = sodium.crypto_box_seal_open(from(req.sealed), from(req.publicKey),
                                                 from(req.privateKey));
      reply = { message: to(opened) };
    } catch (e) {
      reply = { error: String(e.message || e) };
    }
  } else {
    throw new Error('unknown op ' + req.op);
  }
  process.stdout.write(JSON.stringify(reply));
}

main().catch((e) => {
  process.stderr.write(String(e.stack || e) + '\n');
  process.exit(1);
});
