// The npm socket.io-client against a running Paperworks, the way a browser app uses it.
//
//   node socketio_live.js refused <baseUrl>
//   node socketio_live.js events  <baseUrl> <email>
//   node socketio_live.js job     <baseUrl> <email>
//   node socketio_live.js late    <baseUrl> <email>
//
// Prints one JSON object on stdout (what the client saw) and exits 0; anything unexpected goes
// to stderr with exit code 1. The Python test (tests/e2e/test_socketio_js_client.py) asserts.
import { io } from "socket.io-client";

const PATH = "/ws/socket.io";
const PASSWORD = "correct horse battery";
const WAIT_MS = 60_000;

const [scenario, baseUrl, email] = process.argv.slice(2);

/** A client that records every event it hears, in order. */
function client(auth) {
  const options = { path: PATH, reconnection: false, timeout: 10_000 };
  if (auth !== undefined) options.auth = auth;
  const socket = io(baseUrl, options);
  const heard = [];
  const waiters = [];
  socket.onAny((name, data) => {
    heard.push([name, data]);
    for (const waiter of [...waiters]) waiter();
  });
  /** The first event named `name` whose data passes `test`, heard already or to come. */
  const until = (name, test = () => true) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const names = heard.map(([n]) => n).join(", ");
        reject(new Error(`no ${name} within ${WAIT_MS} ms; heard: ${names}`));
      }, WAIT_MS);
      const check = () => {
        const found = heard.find(([n, data]) => n === name && test(data));
        if (found === undefined) return;
        clearTimeout(timer);
        waiters.splice(waiters.indexOf(check), 1);
        resolve(found[1]);
      };
      waiters.push(check);
      check();
    });
  return { socket, heard, until };
}

/** Resolves once connected; rejects with the `connect_error` the server answered. */
function connected(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
}

async function api(path, { token, json, form } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // fetch writes the multipart boundary itself
  }
  const response = await fetch(new URL(path, baseUrl), {
    method: body === undefined ? "GET" : "POST",
    headers,
    body,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}

async function signIn() {
  const tokens = await api("/api/v1/auth/register", { json: { email, password: PASSWORD } });
  return tokens.accessToken;
}

/** (a) Refused connections: what `connect_error` gives a program to read. */
async function refused() {
  const attempts = {
    none: undefined,
    badToken: { token: "not-a-jwt" },
    badApiKey: { apiKey: "pw_nope" },
  };
  const result = {};
  for (const [name, auth] of Object.entries(attempts)) {
    const { socket } = client(auth);
    try {
      await connected(socket);
      result[name] = { connected: true };
    } catch (err) {
      result[name] = {
        connected: false,
        isError: err instanceof Error,
        message: err.message,
        data: err.data ?? null,
      };
    } finally {
      socket.close();
    }
  }
  return result;
}

/** (b) A signed-in client hears its own task (user room) and a workspace's upload. */
async function events() {
  const token = await signIn();
  const { socket, until } = client({ token });
  await connected(socket);
  try {
    const task = await api("/api/v1/tasks", { token, json: { title: "Count the sparrows" } });
    const taskCreated = await until("task.created", (data) => data.resourceId === task.id);

    const form = new FormData();
    const csv = "bird,count\nsparrow,3\ncrow,2\n";
    form.append("file", new Blob([csv], { type: "text/csv" }), "birds.csv");
    const file = await api("/api/v1/files", { token, form });
    const fileUploaded = await until("file.uploaded", (data) => data.resourceId === file.id);
    return { taskId: task.id, fileId: file.id, taskCreated, fileUploaded };
  } finally {
    socket.close();
  }
}

function slide(title, bullets, layout = "bullets") {
  return { index: 0, layout, title, bullets, imagePrompt: `a drawing of ${title}` };
}

const BUSY_PLAN = Array.from({ length: 20 }, (_, i) =>
  slide(`Busy slide ${i + 1}`, ["one point", "another point"], "bullets_image"),
);
const BIRDS_PLAN = [
  slide("Pigeons", ["They find their way home", "They live everywhere"]),
  slide("Crows", ["They solve puzzles"]),
  slide("Sparrows", ["Fewer every year"]),
];

/** (c) A real deck build, followed with `subscribe` and its ack, from its start. */
async function job() {
  const token = await signIn();
  const { socket, heard, until } = client({ token });
  await connected(socket);
  try {
    // The server runs one job at a time: a deck of pictures first keeps it busy (seconds) while
    // this client subscribes to the second. If the second started before the subscription
    // anyway (a loaded machine), its start was missed: build another.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const busy = { title: "Keeping the runner busy", slidePlan: BUSY_PLAN };
      await api("/api/v1/slides/build", { token, json: busy });
      const birds = { title: "Urban birds", includeImages: false, slidePlan: BIRDS_PLAN };
      const build = await api("/api/v1/slides/build", { token, json: birds });
      const ack = await socket.timeout(10_000).emitWithAck("subscribe", { jobId: build.jobId });
      const { status } = await api(`/api/v1/jobs/${build.jobId}`, { token });
      if (status !== "queued") {
        process.stderr.write(`attempt ${attempt}: the job was ${status} before the subscription\n`);
        continue;
      }
      const ours = (data) => data?.jobId === build.jobId;
      const completed = await until("job:completed", ours);
      const followed = heard.filter(([name, data]) => /^(job|slide):/.test(name) && ours(data));
      return { jobId: build.jobId, deckId: build.deckId, attempt, ack, completed, heard: followed };
    }
    throw new Error("every build started before the client could subscribe to it");
  } finally {
    socket.close();
  }
}

/** (d) A client that follows a deck build only after it finished still hears how it ended. */
async function late() {
  const token = await signIn();
  const birds = { title: "Urban birds", includeImages: false, slidePlan: BIRDS_PLAN };
  const build = await api("/api/v1/slides/build", { token, json: birds });
  const deadline = Date.now() + WAIT_MS;
  while ((await api(`/api/v1/jobs/${build.jobId}`, { token })).status !== "succeeded") {
    if (Date.now() > deadline) throw new Error("the build did not finish");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { socket, until } = client({ token });
  await connected(socket);
  try {
    const ack = await socket.timeout(10_000).emitWithAck("subscribe", { jobId: build.jobId });
    const ours = (data) => data?.jobId === build.jobId;
    const completed = await until("job:completed", ours);
    const slideCompleted = await until("slide:completed", ours);
    const download = await fetch(slideCompleted.url);
    const bytes = new Uint8Array(await download.arrayBuffer());
    return {
      jobId: build.jobId,
      deckId: build.deckId,
      ack,
      completed,
      slideCompleted,
      download: { status: download.status, zip: bytes[0] === 0x50 && bytes[1] === 0x4b },
    };
  } finally {
    socket.close();
  }
}

const scenarios = { refused, events, job, late };

try {
  if (!(scenario in scenarios) || !baseUrl) {
    const names = Object.keys(scenarios).join("|");
    throw new Error(`usage: node socketio_live.js ${names} <baseUrl> [email]`);
  }
  const result = await scenarios[scenario]();
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (err) {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exitCode = 1;
}
