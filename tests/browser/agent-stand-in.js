// A stand-in for Amazon Connect's agent workspace: the parent-window side of
// the Amazon Connect SDK, so that console/agent/ (with the real, unmodified
// @amazon-connect/app, contact and voice code bundled in agent.js) runs in a
// plain page. It runs in tests/browser's host page, which frames the app in
// <iframe id="app"> from another origin, as the workspace does.
//
// What it fakes, at the postMessage / MessagePort level (the messages are
// those of @amazon-connect/core and workspace-types 1.0.11, read from the
// SDK's source):
//   1. The handshake. The app's AppProxy posts {type: "connect-app-host-init",
//      sdkVersion, providerId} to window.parent with a MessagePort; the
//      stand-in takes the port (only from the framed app's window) and
//      answers {type: "acknowledge", connectionId, status: {initialized:
//      true, startTime}, healthCheckInterval: 0} (0: no health checks).
//   2. The lifecycle. It sends {type: "appLifecycle", stage: "create"} with
//      the per-contact scope (scope and the deprecated contactScope, both
//      {type: "contact", contactId}), an instance id, an AppConfig of the
//      app (permissions: the template's two), launchedBy and region; after
//      the app answers appLifecycleHandlerCompleted (create) it sends stage
//      "start". window.standIn.destroy() sends stage "destroy".
//   3. Two requests, answered as {type: "response", namespace, requestId,
//      isError, data}:
//      - aws.connect.contact contact/getChannelType -> {type, subtype} (the
//        channel of ?channel=, default voice);
//      - aws.connect.voice voice/getInitialCustomerPhoneNumber ->
//        {phoneNumber} (?number=, given as is, "" for a withheld number), or,
//        with ?phoneError=<key>, an error response {isError: true, errorKey,
//        reason, details}.
//      Either request for another contact id than the scope's is answered
//      with an error (the workspace answers for the contacts it has).
//   Any other request gets an error response (errorKey "standInNotFaked"),
//   so a page that starts using more of the SDK fails here visibly.
//   Everything the app sends up (requests, logs, metrics, lifecycle
//   completions, subscriptions) is kept in window.standIn.upstream.
//
// What it does not fake: the workspace's own UI, its tabs and app
// launching, authentication and the Applications entry of a security
// profile (it answers every request the real workspace would refuse without
// Contact.Details.View or Contact.CustomerDetails.View), event publication
// (contact/connected, contact/cleared...: the app subscribes to none),
// health checks, connection resets and the timing of the real workspace
// (it answers at once). Whether the real workspace sends "create" before or
// after "acknowledge", and what getInitialCustomerPhoneNumber returns for a
// withheld number, are only known from a real instance.
(function () {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  const contactId = params.get("contactId") || "11111111-2222-3333-4444-555555555555";
  const channel = params.get("channel") || "voice";
  const number = params.has("number") ? params.get("number") : "+14155550100";
  const phoneError = params.get("phoneError");
  const instanceId = "stand-in-app-instance-1";

  const standIn = { upstream: [], port: null, contactId };
  window.standIn = standIn;

  const channels = {
    voice: { type: "voice", subtype: "connect:Telephony" },
    queue_callback: { type: "queue_callback", subtype: "connect:Telephony" },
    chat: { type: "chat", subtype: "connect:Chat" },
    task: { type: "task", subtype: "connect:Task" },
    email: { type: "email", subtype: "connect:Email" },
  };

  function lifecycle(stage) {
    const config = {
      _type: "iframe",
      arn: "arn:aws:app-integrations:us-east-1:123456789012:application/stand-in",
      namespace: "stand-in-agent-app",
      id: "stand-in",
      name: "stand-in",
      description: "the tests' stand-in registration",
      accessUrl: document.getElementById("app").src,
      contactHandling: { scope: "PER_CONTACT" },
      permissions: ["Contact.Details.View", "Contact.CustomerDetails.View"],
    };
    return {
      type: "appLifecycle",
      stage,
      instanceId,
      appInstanceId: instanceId,
      config,
      appConfig: config,
      scope: { type: "contact", contactId },
      contactScope: { type: "contact", contactId },
      launchedBy: { type: "internal", name: undefined },
      region: "us-east-1",
    };
  }

  function success(msg, data) {
    return { type: "response", namespace: msg.namespace, requestId: msg.requestId, isError: false, data };
  }

  function failure(msg, errorKey, reason) {
    return {
      type: "response",
      namespace: msg.namespace,
      requestId: msg.requestId,
      isError: true,
      errorKey,
      reason,
      details: { command: msg.command, requestData: msg.data },
    };
  }

  function answer(msg) {
    const asked = msg.data && msg.data.contactId;
    const route = `${msg.namespace} ${msg.command}`;
    if (route === "aws.connect.contact contact/getChannelType" || route === "aws.connect.voice voice/getInitialCustomerPhoneNumber") {
      if (asked !== contactId) {
        return failure(msg, "contactNotFound", `No contact ${String(asked)} in this workspace`);
      }
    }
    switch (route) {
      case "aws.connect.contact contact/getChannelType":
        return success(msg, channels[channel]);
      case "aws.connect.voice voice/getInitialCustomerPhoneNumber":
        if (phoneError) {
          return failure(msg, phoneError, "The workspace could not give the phone number");
        }
        return success(msg, { phoneNumber: number });
      default:
        return failure(msg, "standInNotFaked", `The stand-in does not fake ${route}`);
    }
  }

  function fromApp(evt) {
    const msg = evt.data;
    standIn.upstream.push(msg);
    if (msg.type === "request") {
      standIn.port.postMessage(answer(msg));
    } else if (msg.type === "appLifecycleHandlerCompleted" && msg.stage === "create") {
      standIn.port.postMessage(lifecycle("start"));
    }
  }

  window.addEventListener("message", (evt) => {
    const frame = document.getElementById("app");
    // Only the framed app's window may connect, as only the workspace's own
    // app frames can.
    if (!frame || evt.source !== frame.contentWindow) return;
    if (!evt.data || evt.data.type !== "connect-app-host-init") return;
    standIn.hostInit = evt.data;
    standIn.port = evt.ports[0];
    standIn.port.onmessage = fromApp;
    standIn.port.postMessage({
      type: "acknowledge",
      connectionId: "stand-in-connection-1",
      status: { initialized: true, startTime: new Date() },
      healthCheckInterval: 0,
    });
    standIn.port.postMessage(lifecycle("create"));
  });

  standIn.destroy = () => standIn.port.postMessage(lifecycle("destroy"));

  // The app's address: ?app= (the test server's /agent/ with its #token=).
  document.getElementById("app").src = params.get("app");
})();
