<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="zh_CN">
<context>
    <name>AddOperatorDialog</name>
    <message>
        <source>添加操作员</source>
        <translation>Add operator</translation>
    </message>
    <message>
        <source>用户名</source>
        <translation>Username</translation>
    </message>
    <message>
        <source>姓名</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>角色</source>
        <translation>Role</translation>
    </message>
    <message>
        <source>请输入用户名。</source>
        <translation>Enter a username.</translation>
    </message>
</context>
<context>
    <name>CashDialog</name>
    <message>
        <source>收现金放行</source>
        <translation>Take cash and release</translation>
    </message>
    <message>
        <source>{0} 元</source>
        <translation>¥{0}</translation>
    </message>
    <message>
        <source>实收金额（可不填）</source>
        <translation>Cash received (optional)</translation>
    </message>
    <message>
        <source>车道</source>
        <translation>Lane</translation>
    </message>
    <message>
        <source>车牌</source>
        <translation>Plate</translation>
    </message>
    <message>
        <source>应收</source>
        <translation>Due</translation>
    </message>
    <message>
        <source>实收</source>
        <translation>Received</translation>
    </message>
    <message>
        <source>找零</source>
        <translation>Change</translation>
    </message>
    <message>
        <source>实收金额少于应收 {0} 元。</source>
        <translation>The cash received is less than the ¥{0} due.</translation>
    </message>
</context>
<context>
    <name>Cashier</name>
    <message>
        <source>车道服务尚未启动</source>
        <translation>The lane services have not started yet</translation>
    </message>
    <message>
        <source>请先登录</source>
        <translation>Please log in first</translation>
    </message>
    <message>
        <source>没有这个方向的车道</source>
        <translation>There is no lane in this direction</translation>
    </message>
    <message>
        <source>{0} 已人工抬杆：{1}</source>
        <translation>{0}: gate opened by hand: {1}</translation>
    </message>
    <message>
        <source>没有等待缴费的车辆</source>
        <translation>No vehicle is waiting to pay</translation>
    </message>
    <message>
        <source>这辆车已不在等待缴费（可能已用其他方式支付）。</source>
        <translation>This vehicle no longer waits to pay (it may have paid another way).</translation>
    </message>
    <message>
        <source>{0} 收现金 {1} 元，已放行</source>
        <translation>{0}: took ¥{1} in cash, released</translation>
    </message>
    <message>
        <source>{0} 免费放行：{1}</source>
        <translation>{0}: released free: {1}</translation>
    </message>
    <message>
        <source>没有等待处理的出口</source>
        <translation>No exit is waiting</translation>
    </message>
    <message>
        <source>这条入场记录已不存在。</source>
        <translation>This entry record no longer exists.</translation>
    </message>
    <message>
        <source>{0} 按 {1} 处理</source>
        <translation>{0}: handled as {1}</translation>
    </message>
</context>
<context>
    <name>FirstAdminDialog</name>
    <message>
        <source>首次使用：创建管理员</source>
        <translation>First use: create the administrator</translation>
    </message>
    <message>
        <source>创建并登录（回车）</source>
        <translation>Create and log in (Enter)</translation>
    </message>
    <message>
        <source>这台岗亭还没有操作员。请先建立管理员账号，只有管理员可以修改设置和车辆名单。</source>
        <translation>This booth has no operators yet. Create the administrator account first; only administrators can change the settings and the vehicle lists.</translation>
    </message>
    <message>
        <source>用户名</source>
        <translation>User name</translation>
    </message>
    <message>
        <source>姓名</source>
        <translation>Full name</translation>
    </message>
    <message>
        <source>密码（至少 6 位）</source>
        <translation>Password (at least 6 characters)</translation>
    </message>
    <message>
        <source>再次输入密码</source>
        <translation>Password again</translation>
    </message>
    <message>
        <source>两次输入的密码不一致，请重新输入。</source>
        <translation>The two passwords differ; please type them again.</translation>
    </message>
</context>
<context>
    <name>FreeReleaseDialog</name>
    <message>
        <source>免费放行</source>
        <translation>Free release</translation>
    </message>
    <message>
        <source>{0}  应缴 {1} 元，免费放行</source>
        <translation>{0}  ¥{1} due, released free</translation>
    </message>
</context>
<context>
    <name>HandoverDialog</name>
    <message>
        <source>交接班</source>
        <translation>Shift handover</translation>
    </message>
    <message>
        <source>正在统计本班数据…</source>
        <translation>Counting this shift…</translation>
    </message>
    <message>
        <source>清点钱箱后填写，可不填</source>
        <translation>Fill in after counting the cash box (optional)</translation>
    </message>
    <message>
        <source>确认交班（回车）</source>
        <translation>Hand over (Enter)</translation>
    </message>
    <message>
        <source>打印（Ctrl+P）</source>
        <translation>Print (Ctrl+P)</translation>
    </message>
    <message>
        <source>保存 PDF（Ctrl+S）</source>
        <translation>Save PDF (Ctrl+S)</translation>
    </message>
    <message>
        <source>取消（Esc）</source>
        <translation>Cancel (Esc)</translation>
    </message>
    <message>
        <source>实收现金（元）</source>
        <translation>Cash counted (¥)</translation>
    </message>
    <message>
        <source>备注</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>实收现金请填写金额，例如 120.50。</source>
        <translation>Write the cash counted as an amount, e.g. 120.50.</translation>
    </message>
    <message>
        <source>报表还在统计中，请稍候。</source>
        <translation>The report is still being counted; please wait.</translation>
    </message>
    <message>
        <source>PDF 未能保存到 {0}：{1}</source>
        <translation>The PDF could not be saved to {0}: {1}</translation>
    </message>
    <message>
        <source>已保存 PDF：{0}</source>
        <translation>PDF saved: {0}</translation>
    </message>
</context>
<context>
    <name>HandoverReport</name>
    <message>
        <source>临时车</source>
        <translation>Temporary</translation>
    </message>
    <message>
        <source>月卡车</source>
        <translation>Month card</translation>
    </message>
    <message>
        <source>白名单</source>
        <translation>Whitelist</translation>
    </message>
    <message>
        <source>无牌车</source>
        <translation>No plate</translation>
    </message>
    <message>
        <source>无感支付</source>
        <translation>Wallet (no password)</translation>
    </message>
    <message>
        <source>付款码</source>
        <translation>Payment code</translation>
    </message>
    <message>
        <source>扫码支付</source>
        <translation>QR scan</translation>
    </message>
    <message>
        <source>ETC</source>
        <translation>ETC</translation>
    </message>
    <message>
        <source>场内预付</source>
        <translation>Prepaid inside</translation>
    </message>
    <message>
        <source>{0} 元</source>
        <translation>¥{0}</translation>
    </message>
    <message>
        <source>{0} 交接班报表</source>
        <translation>{0} shift handover report</translation>
    </message>
    <message>
        <source>交接班报表</source>
        <translation>Shift handover report</translation>
    </message>
    <message>
        <source>交班时间</source>
        <translation>Handed over at</translation>
    </message>
    <message>
        <source>统计截至（未交班）</source>
        <translation>Counted until (not handed over yet)</translation>
    </message>
    <message>
        <source>岗亭</source>
        <translation>Booth</translation>
    </message>
    <message>
        <source>操作员</source>
        <translation>Operator</translation>
    </message>
    <message>
        <source>上班时间</source>
        <translation>On duty since</translation>
    </message>
    <message>
        <source>合计</source>
        <translation>Total</translation>
    </message>
    <message>
        <source>现金收入</source>
        <translation>Cash taken</translation>
    </message>
    <message>
        <source>实收现金</source>
        <translation>Cash counted</translation>
    </message>
    <message>
        <source>未清点</source>
        <translation>not counted</translation>
    </message>
    <message>
        <source>差额（实收 − 收入）</source>
        <translation>Difference (counted − taken)</translation>
    </message>
    <message>
        <source>车辆进出</source>
        <translation>Cars in and out</translation>
    </message>
    <message>
        <source>车辆类型</source>
        <translation>Kind</translation>
    </message>
    <message>
        <source>入场</source>
        <translation>In</translation>
    </message>
    <message>
        <source>出场</source>
        <translation>Out</translation>
    </message>
    <message>
        <source>现金</source>
        <translation>Cash</translation>
    </message>
    <message>
        <source>项目</source>
        <translation>Item</translation>
    </message>
    <message>
        <source>金额</source>
        <translation>Amount</translation>
    </message>
    <message>
        <source>电子支付</source>
        <translation>Electronic payments</translation>
    </message>
    <message>
        <source>渠道</source>
        <translation>Channel</translation>
    </message>
    <message>
        <source>笔数</source>
        <translation>Count</translation>
    </message>
    <message>
        <source>免费放行（{0} 次）</source>
        <translation>Free releases ({0})</translation>
    </message>
    <message>
        <source>时间</source>
        <translation>Time</translation>
    </message>
    <message>
        <source>车道</source>
        <translation>Lane</translation>
    </message>
    <message>
        <source>车牌</source>
        <translation>Plate</translation>
    </message>
    <message>
        <source>原因</source>
        <translation>Reason</translation>
    </message>
    <message>
        <source>无</source>
        <translation>None</translation>
    </message>
    <message>
        <source>人工抬杆（{0} 次）</source>
        <translation>Gates opened by hand ({0})</translation>
    </message>
    <message>
        <source>备注</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>交班人签字：__________&#x3000;&#x3000;接班人签字：__________</source>
        <translation>Handed over by: __________    Taken over by: __________</translation>
    </message>
</context>
<context>
    <name>HelpOverlay</name>
    <message>
        <source>快捷键</source>
        <translation>Keyboard shortcuts</translation>
    </message>
    <message>
        <source>按任意键关闭</source>
        <translation>Press any key to close</translation>
    </message>
</context>
<context>
    <name>HistoryDialog</name>
    <message>
        <source>历史记录</source>
        <translation>History</translation>
    </message>
    <message>
        <source>车牌包含…（回车查找）</source>
        <translation>Plate contains… (Enter to search)</translation>
    </message>
    <message>
        <source>车牌</source>
        <translation>Plate</translation>
    </message>
    <message>
        <source>类型</source>
        <translation>Type</translation>
    </message>
    <message>
        <source>入口</source>
        <translation>Entrance</translation>
    </message>
    <message>
        <source>入场时间</source>
        <translation>Entered</translation>
    </message>
    <message>
        <source>出口</source>
        <translation>Exit</translation>
    </message>
    <message>
        <source>出场时间</source>
        <translation>Left</translation>
    </message>
    <message>
        <source>状态</source>
        <translation>State</translation>
    </message>
    <message>
        <source>时间</source>
        <translation>Time</translation>
    </message>
    <message>
        <source>车道</source>
        <translation>Lane</translation>
    </message>
    <message>
        <source>入口岗亭</source>
        <translation>Entry booth</translation>
    </message>
    <message>
        <source>出口岗亭</source>
        <translation>Exit booth</translation>
    </message>
    <message>
        <source>收费时间</source>
        <translation>Paid at</translation>
    </message>
    <message>
        <source>方式</source>
        <translation>Method</translation>
    </message>
    <message>
        <source>金额</source>
        <translation>Amount</translation>
    </message>
    <message>
        <source>岗亭</source>
        <translation>Booth</translation>
    </message>
    <message>
        <source>操作员</source>
        <translation>Operator</translation>
    </message>
    <message>
        <source>交易号/原因</source>
        <translation>Trade no. / reason</translation>
    </message>
    <message>
        <source>原因</source>
        <translation>Reason</translation>
    </message>
    <message>
        <source>说明</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>抓拍</source>
        <translation>Snapshot</translation>
    </message>
    <message>
        <source>选中一条停车记录，查看它的收费记录</source>
        <translation>Select a stay to see its payments</translation>
    </message>
    <message>
        <source>停车记录</source>
        <translation>Stays</translation>
    </message>
    <message>
        <source>人工抬杆记录</source>
        <translation>Gates opened by hand</translation>
    </message>
    <message>
        <source>发现时间</source>
        <translation>Found</translation>
    </message>
    <message>
        <source>问题</source>
        <translation>Problem</translation>
    </message>
    <message>
        <source>详情</source>
        <translation>Details</translation>
    </message>
    <message>
        <source>核实</source>
        <translation>Checked</translation>
    </message>
    <message>
        <source>选中一条，写下核实结果和处理办法（回车记录）</source>
        <translation>Select one, write what you found and did (Enter records it)</translation>
    </message>
    <message>
        <source>待核实</source>
        <translation>To check</translation>
    </message>
    <message>
        <source>关闭（Esc）</source>
        <translation>Close (Esc)</translation>
    </message>
    <message>
        <source>在场</source>
        <translation>Inside</translation>
    </message>
    <message>
        <source>已出场</source>
        <translation>Left</translation>
    </message>
    <message>
        <source>已重入</source>
        <translation>Entered again</translation>
    </message>
    <message>
        <source>（待核实）</source>
        <translation> (to check)</translation>
    </message>
    <message>
        <source>远程</source>
        <translation>Remote</translation>
    </message>
    <message>
        <source>停车记录 {0} 条 · 人工抬杆 {1} 次</source>
        <translation>{0} stays · {1} gates opened by hand</translation>
    </message>
    <message>
        <source> · 待核实 {0} 条</source>
        <translation> · {0} to check</translation>
    </message>
    <message>
        <source>两处出场</source>
        <translation>Left at two booths</translation>
    </message>
    <message>
        <source>出场后收费</source>
        <translation>Paid after leaving</translation>
    </message>
    <message>
        <source>仍有在场记录</source>
        <translation>Another stay still inside</translation>
    </message>
    <message>
        <source>未核实</source>
        <translation>Not checked</translation>
    </message>
    <message>
        <source>{0} {1}：{2}</source>
        <translation>{0} {1}: {2}</translation>
    </message>
    <message>
        <source>待核实（{0}）</source>
        <translation>To check ({0})</translation>
    </message>
    <message>
        <source>请先选中一条待核实记录</source>
        <translation>Select a record to check first</translation>
    </message>
    <message>
        <source>请先登录，再记录核实结果</source>
        <translation>Log in first to record what you checked</translation>
    </message>
    <message>
        <source>请写下核实结果和处理办法</source>
        <translation>Write what you found and what you did</translation>
    </message>
    <message>
        <source>未能记录：{0}</source>
        <translation>Not recorded: {0}</translation>
    </message>
    <message>
        <source>已记录 {0} 的核实结果 · 待核实 {1} 条</source>
        <translation>Recorded the check of {0} · {1} to check</translation>
    </message>
    <message>
        <source>{0} 的收费记录（{1} 笔）</source>
        <translation>Payments for {0} ({1})</translation>
    </message>
    <message>
        <source>{0} 没有收费记录</source>
        <translation>No payments for {0}</translation>
    </message>
</context>
<context>
    <name>KeyMap</name>
    <message>
        <source>车道与道闸</source>
        <translation>Lanes and gates</translation>
    </message>
    <message>
        <source>收费</source>
        <translation>Payment</translation>
    </message>
    <message>
        <source>车牌</source>
        <translation>Plates</translation>
    </message>
    <message>
        <source>记录</source>
        <translation>Records</translation>
    </message>
    <message>
        <source>交接班</source>
        <translation>Shift handover</translation>
    </message>
    <message>
        <source>通用</source>
        <translation>General</translation>
    </message>
    <message>
        <source>选择第 1 条车道</source>
        <translation>Select lane 1</translation>
    </message>
    <message>
        <source>选择第 2 条车道</source>
        <translation>Select lane 2</translation>
    </message>
    <message>
        <source>选择第 3 条车道</source>
        <translation>Select lane 3</translation>
    </message>
    <message>
        <source>选择第 4 条车道</source>
        <translation>Select lane 4</translation>
    </message>
    <message>
        <source>开入口道闸（需填写原因）</source>
        <translation>Open the entrance gate (a reason is required)</translation>
    </message>
    <message>
        <source>开出口道闸（需填写原因）</source>
        <translation>Open the exit gate (a reason is required)</translation>
    </message>
    <message>
        <source>切换到下一个待缴费的出口</source>
        <translation>Go to the next exit waiting for payment</translation>
    </message>
    <message>
        <source>收现金并放行：按此键后再按回车确认，两键完成一笔缴费</source>
        <translation>Take cash and release: this key, then Enter to confirm; two keys finish a payment</translation>
    </message>
    <message>
        <source>免费放行（需填写原因）</source>
        <translation>Release free (a reason is required)</translation>
    </message>
    <message>
        <source>修正车牌，或为出口车辆匹配入场记录</source>
        <translation>Correct a plate, or match an exiting vehicle to its entry</translation>
    </message>
    <message>
        <source>按车牌查找在场车辆</source>
        <translation>Find a vehicle inside by plate</translation>
    </message>
    <message>
        <source>历史记录、人工抬杆记录与待核实</source>
        <translation>History, gates opened by hand, and what is left to check</translation>
    </message>
    <message>
        <source>车辆名单（月卡、白名单、黑名单，仅管理员）</source>
        <translation>Vehicle lists (month cards, whitelist, blacklist; administrators only)</translation>
    </message>
    <message>
        <source>锁定屏幕，换人登录</source>
        <translation>Lock the screen for another cashier to log in</translation>
    </message>
    <message>
        <source>操作员与密码（添加操作员仅管理员）</source>
        <translation>Operators and passwords (only an admin adds operators)</translation>
    </message>
    <message>
        <source>显示或关闭本帮助</source>
        <translation>Show or close this help</translation>
    </message>
    <message>
        <source>确认（对话框的默认按钮）</source>
        <translation>Confirm (the dialog&apos;s default button)</translation>
    </message>
    <message>
        <source>取消，关闭对话框</source>
        <translation>Cancel, close the dialog</translation>
    </message>
</context>
<context>
    <name>LaneEditor</name>
    <message>
        <source>编号</source>
        <translation>ID</translation>
    </message>
    <message>
        <source>名称</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>入口</source>
        <translation>Entrance</translation>
    </message>
    <message>
        <source>出口</source>
        <translation>Exit</translation>
    </message>
    <message>
        <source>方向</source>
        <translation>Direction</translation>
    </message>
    <message>
        <source>ETC 车道号</source>
        <translation>ETC lane</translation>
    </message>
    <message>
        <source>可不填</source>
        <translation>optional</translation>
    </message>
    <message>
        <source>相机序列号</source>
        <translation>Serial no.</translation>
    </message>
    <message>
        <source>相机 IP</source>
        <translation>Camera IP</translation>
    </message>
    <message>
        <source>视频地址</source>
        <translation>Video (RTSP)</translation>
    </message>
    <message>
        <source>显示屏串口</source>
        <translation>Board port</translation>
    </message>
    <message>
        <source>波特率</source>
        <translation>Baud rate</translation>
    </message>
    <message>
        <source>屏地址</source>
        <translation>Address</translation>
    </message>
    <message>
        <source>显示屏继电器</source>
        <translation>Board relay</translation>
    </message>
    <message>
        <source>Modbus 继电器板</source>
        <translation>Modbus relay board</translation>
    </message>
    <message>
        <source>相机 IO 输出</source>
        <translation>Camera IO output</translation>
    </message>
    <message>
        <source>道闸</source>
        <translation>Barrier</translation>
    </message>
    <message>
        <source>继电器</source>
        <translation>Relay</translation>
    </message>
    <message>
        <source>IO 输出</source>
        <translation>IO output</translation>
    </message>
    <message>
        <source>继电器串口</source>
        <translation>Relay port</translation>
    </message>
    <message>
        <source>如 {0}</source>
        <translation>e.g. {0}</translation>
    </message>
    <message>
        <source>设备地址</source>
        <translation>Device ID</translation>
    </message>
    <message>
        <source>线圈</source>
        <translation>Coil</translation>
    </message>
    <message>
        <source>删除此车道</source>
        <translation>Remove this lane</translation>
    </message>
    <message>
        <source>车道 {0}（lanes[{1}]）</source>
        <translation>Lane {0} (lanes[{1}])</translation>
    </message>
</context>
<context>
    <name>LaneTile</name>
    <message>
        <source>入口</source>
        <translation>Entrance</translation>
    </message>
    <message>
        <source>出口</source>
        <translation>Exit</translation>
    </message>
    <message>
        <source>已入场</source>
        <translation>Entered</translation>
    </message>
    <message>
        <source>黑名单，禁止入场</source>
        <translation>Blacklisted: no entry</translation>
    </message>
    <message>
        <source>车位已满</source>
        <translation>Car park full</translation>
    </message>
    <message>
        <source>月卡过期，禁止入场</source>
        <translation>Month card expired: no entry</translation>
    </message>
    <message>
        <source>已放行</source>
        <translation>Released</translation>
    </message>
    <message>
        <source>待缴费</source>
        <translation>Payment due</translation>
    </message>
    <message>
        <source>请确认车牌</source>
        <translation>Confirm the plate</translation>
    </message>
    <message>
        <source>无入场记录</source>
        <translation>No entry record</translation>
    </message>
    <message>
        <source>已抬杆</source>
        <translation>Gate open</translation>
    </message>
    <message>
        <source>已落杆</source>
        <translation>Gate closed</translation>
    </message>
    <message>
        <source>故障</source>
        <translation>Fault</translation>
    </message>
    <message>
        <source>未知</source>
        <translation>Unknown</translation>
    </message>
    <message>
        <source>相机</source>
        <translation>Camera</translation>
    </message>
    <message>
        <source>显示屏</source>
        <translation>Display</translation>
    </message>
    <message>
        <source>道闸</source>
        <translation>Gate</translation>
    </message>
    <message>
        <source>未配置视频（lanes.camera.rtsp）</source>
        <translation>No video configured (lanes.camera.rtsp)</translation>
    </message>
    <message>
        <source>等待车辆</source>
        <translation>Waiting for vehicles</translation>
    </message>
    <message>
        <source>无牌车</source>
        <translation>No plate</translation>
    </message>
    <message>
        <source>无图</source>
        <translation>No picture</translation>
    </message>
    <message>
        <source>  应缴 {0} 元</source>
        <translation>  ¥{0} due</translation>
    </message>
    <message>
        <source>{0}  免费放行</source>
        <translation>{0}  released free</translation>
    </message>
    <message>
        <source>{0}  已缴 {1} 元（{2}）</source>
        <translation>{0}  paid {1} yuan ({2})</translation>
    </message>
    <message>
        <source>相机尚未联系</source>
        <translation>No word from the camera yet</translation>
    </message>
    <message>
        <source>最后联系 {0:%H:%M:%S}</source>
        <translation>Last heard {0:%H:%M:%S}</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <source>操作员登录</source>
        <translation>Operator login</translation>
    </message>
    <message>
        <source>登录（回车）</source>
        <translation>Log in (Enter)</translation>
    </message>
    <message>
        <source>用户名</source>
        <translation>User name</translation>
    </message>
    <message>
        <source>密码</source>
        <translation>Password</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>（演示）</source>
        <translation> (demo)</translation>
    </message>
    <message>
        <source>岗亭 {0} · 共享库</source>
        <translation>Booth {0} · shared database</translation>
    </message>
    <message>
        <source>本停车场的岗亭共用一个数据库：车辆可从一个岗亭入场、从另一个岗亭出场</source>
        <translation>The car park&apos;s booths share one database: a car may enter at one booth and leave at another</translation>
    </message>
    <message>
        <source>岗亭 {0}</source>
        <translation>Booth {0}</translation>
    </message>
    <message>
        <source>本岗亭的数据库在本机</source>
        <translation>This booth&apos;s database is on this PC</translation>
    </message>
    <message>
        <source>岗亭断开数据库期间的操作与其他岗亭不一致，需要人工核实：按 {0}，在“待核实”中查看并记录</source>
        <translation>What this booth did while it could not reach the database disagrees with another booth: press {0} and see “To check”</translation>
    </message>
    <message>
        <source>泊链：未连接</source>
        <translation>Bolink: not connected</translation>
    </message>
    <message>
        <source>未登录</source>
        <translation>Not logged in</translation>
    </message>
    <message>
        <source>泊链在线</source>
        <translation>Bolink online</translation>
    </message>
    <message>
        <source>泊链离线，报告暂存本机</source>
        <translation>Bolink offline: reports kept on this PC</translation>
    </message>
    <message>
        <source>管理员</source>
        <translation>administrator</translation>
    </message>
    <message>
        <source>收费员</source>
        <translation>cashier</translation>
    </message>
    <message>
        <source>值班：{0}（{1}）{2:%H:%M} 起</source>
        <translation>On duty: {0} ({1}) since {2:%H:%M}</translation>
    </message>
    <message>
        <source>在场 {0} 辆 · 余位 {1} / {2}</source>
        <translation>{0} inside · {1} of {2} spaces free</translation>
    </message>
    <message>
        <source>待上传 {0}</source>
        <translation>{0} to upload</translation>
    </message>
    <message>
        <source>岗亭 {0} · 数据库服务器断开（{1:%H:%M} 起），本机记账</source>
        <translation>Booth {0} · database server unreachable since {1:%H:%M}, recording locally</translation>
    </message>
    <message>
        <source>车道照常工作，记录暂存本机，服务器恢复后自动合并。名单、操作员和交班报表需等服务器恢复。</source>
        <translation>The lanes work as usual; records are kept on this PC and merged when the server is back. Vehicle lists, operators and handover reports wait for the server.</translation>
    </message>
    <message>
        <source>待核实 {0}（{1}）</source>
        <translation>{0} to check ({1})</translation>
    </message>
</context>
<context>
    <name>ManualReleaseDialog</name>
    <message>
        <source>人工抬杆</source>
        <translation>Open the gate by hand</translation>
    </message>
    <message>
        <source>车道（Shift+Tab 切换）</source>
        <translation>Lane (Shift+Tab to change)</translation>
    </message>
</context>
<context>
    <name>Operators</name>
    <message>
        <source>管理员</source>
        <translation>Admin</translation>
    </message>
    <message>
        <source>收费员</source>
        <translation>Cashier</translation>
    </message>
</context>
<context>
    <name>OperatorsDialog</name>
    <message>
        <source>操作员</source>
        <translation>Operators</translation>
    </message>
    <message>
        <source>用户名</source>
        <translation>Username</translation>
    </message>
    <message>
        <source>姓名</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>角色</source>
        <translation>Role</translation>
    </message>
    <message>
        <source>添加操作员</source>
        <translation>Add operator</translation>
    </message>
    <message>
        <source>修改密码</source>
        <translation>Set password</translation>
    </message>
    <message>
        <source>关闭 (Esc)</source>
        <translation>Close (Esc)</translation>
    </message>
    <message>
        <source>收费员只能修改自己的密码；添加操作员需要管理员登录。</source>
        <translation>A cashier can only change their own password; adding operators needs an admin&apos;s login.</translation>
    </message>
    <message>
        <source>只有管理员可以添加操作员</source>
        <translation>Only an admin can add operators</translation>
    </message>
    <message>
        <source>已添加</source>
        <translation>Added</translation>
    </message>
    <message>
        <source>只能修改自己的密码</source>
        <translation>You can only change your own password</translation>
    </message>
    <message>
        <source>密码已修改</source>
        <translation>Password changed</translation>
    </message>
</context>
<context>
    <name>PasswordFields</name>
    <message>
        <source>密码（至少 6 位）</source>
        <translation>Password (at least 6 characters)</translation>
    </message>
    <message>
        <source>再次输入密码</source>
        <translation>Password again</translation>
    </message>
    <message>
        <source>请输入密码。</source>
        <translation>Enter a password.</translation>
    </message>
    <message>
        <source>两次输入的密码不一致。</source>
        <translation>The two passwords differ.</translation>
    </message>
</context>
<context>
    <name>PaymentPanel</name>
    <message>
        <source>无车辆等待缴费</source>
        <translation>No vehicle waiting to pay</translation>
    </message>
    <message>
        <source>应缴 {0} 元</source>
        <translation>¥{0} due</translation>
    </message>
    <message>
        <source>现金</source>
        <translation>Cash</translation>
    </message>
    <message>
        <source>无感支付</source>
        <translation>Wallet (no password)</translation>
    </message>
    <message>
        <source>付款码</source>
        <translation>Payment code</translation>
    </message>
    <message>
        <source>扫码支付</source>
        <translation>QR scan</translation>
    </message>
    <message>
        <source>ETC</source>
        <translation>ETC</translation>
    </message>
    <message>
        <source>场内预付</source>
        <translation>Prepaid inside</translation>
    </message>
    <message>
        <source>免费放行</source>
        <translation>Released free</translation>
    </message>
    <message>
        <source>{0}天</source>
        <translation>{0} d </translation>
    </message>
    <message>
        <source>{0}小时</source>
        <translation>{0} h </translation>
    </message>
    <message>
        <source>{0}分</source>
        <translation>{0} min</translation>
    </message>
    <message>
        <source>{0}{1}{2}</source>
        <translation>{0}{1}{2}</translation>
    </message>
    <message>
        <source>首{0}分钟 {1}</source>
        <translation>first {0} min {1}</translation>
    </message>
    <message>
        <source>{0}×{1}分钟 {2}</source>
        <translation>{0}×{1} min {2}</translation>
    </message>
    <message>
        <source>第{0}天 {1} = {2}</source>
        <translation>day {0}: {1} = {2}</translation>
    </message>
    <message>
        <source>{0}，封顶 {1}</source>
        <translation>{0}, capped at {1}</translation>
    </message>
    <message>
        <source>等待缴费 · 收现金：{0} 然后回车</source>
        <translation>Waiting for payment · cash: {0} then Enter</translation>
    </message>
    <message>
        <source>车牌未精确匹配：按 {0} 确认或修正</source>
        <translation>Plate not matched exactly: press {0} to confirm or correct</translation>
    </message>
    <message>
        <source>支付中（{0}）…</source>
        <translation>Paying ({0})…</translation>
    </message>
    <message>
        <source>{0}支付失败：{1}</source>
        <translation>{0} payment failed: {1}</translation>
    </message>
    <message>
        <source>{0} 元</source>
        <translation>¥{0}</translation>
    </message>
    <message>
        <source>已支付 {0}（{1}），已放行</source>
        <translation>Paid {0} ({1}), released</translation>
    </message>
    <message>
        <source>{0} 已放行</source>
        <translation>{0} released</translation>
    </message>
    <message>
        <source>入场 {0:%m-%d %H:%M}</source>
        <translation>Entered {0:%m-%d %H:%M}</translation>
    </message>
    <message>
        <source>停车 {0}</source>
        <translation>Parked {0}</translation>
    </message>
    <message>
        <source>已预付 {0} 元</source>
        <translation>¥{0} paid in advance</translation>
    </message>
</context>
<context>
    <name>Picture</name>
    <message>
        <source>{0}：无图片</source>
        <translation>{0}: no picture</translation>
    </message>
</context>
<context>
    <name>PlateMatchDialog</name>
    <message>
        <source>修正或匹配车牌</source>
        <translation>Correct or match the plate</translation>
    </message>
    <message>
        <source>{0}  识别为 {1}</source>
        <translation>{0}  read as {1}</translation>
    </message>
    <message>
        <source>无牌车</source>
        <translation>No plate</translation>
    </message>
    <message>
        <source>本次抓拍</source>
        <translation>This snapshot</translation>
    </message>
    <message>
        <source>入场图片</source>
        <translation>Entry picture</translation>
    </message>
    <message>
        <source>{0}   入场 {1:%m-%d %H:%M}   {2}</source>
        <translation>{0}   entered {1:%m-%d %H:%M}   {2}</translation>
    </message>
    <message>
        <source>或输入正确车牌后按回车</source>
        <translation>or type the right plate and press Enter</translation>
    </message>
    <message>
        <source>候选车辆（↑↓ 选择）</source>
        <translation>Candidates (↑↓ to choose)</translation>
    </message>
    <message>
        <source>没有相近的在场车辆</source>
        <translation>No similar vehicle inside</translation>
    </message>
    <message>
        <source>请输入有效的车牌。</source>
        <translation>Please type a valid plate.</translation>
    </message>
    <message>
        <source>请输入正确的车牌。</source>
        <translation>Please type the right plate.</translation>
    </message>
</context>
<context>
    <name>QueuePanel</name>
    <message>
        <source>按车牌查找（{0}）</source>
        <translation>Search by plate ({0})</translation>
    </message>
    <message>
        <source>入场</source>
        <translation>Entries</translation>
    </message>
    <message>
        <source>出场</source>
        <translation>Exits</translation>
    </message>
</context>
<context>
    <name>Queues</name>
    <message>
        <source>临时车</source>
        <translation>Temporary</translation>
    </message>
    <message>
        <source>月卡</source>
        <translation>Month card</translation>
    </message>
    <message>
        <source>白名单</source>
        <translation>Whitelist</translation>
    </message>
    <message>
        <source>无牌车</source>
        <translation>No plate</translation>
    </message>
    <message>
        <source>车牌</source>
        <translation>Plate</translation>
    </message>
    <message>
        <source>类型</source>
        <translation>Kind</translation>
    </message>
    <message>
        <source>出口</source>
        <translation>Exit</translation>
    </message>
    <message>
        <source>出场时间</source>
        <translation>Left at</translation>
    </message>
    <message>
        <source>入场时间</source>
        <translation>Entered</translation>
    </message>
    <message>
        <source>入口</source>
        <translation>Entry</translation>
    </message>
    <message>
        <source>岗亭</source>
        <translation>Booth</translation>
    </message>
    <message>
        <source>状态</source>
        <translation>State</translation>
    </message>
    <message>
        <source>在场</source>
        <translation>Inside</translation>
    </message>
    <message>
        <source>已出场</source>
        <translation>Left</translation>
    </message>
    <message>
        <source>已重入</source>
        <translation>Entered again</translation>
    </message>
</context>
<context>
    <name>ReasonPicker</name>
    <message>
        <source>补充说明（选“其他”时必填）</source>
        <translation>Details (required with “Other”)</translation>
    </message>
    <message>
        <source>原因（↑↓ 选择）</source>
        <translation>Reason (↑↓ to choose)</translation>
    </message>
    <message>
        <source>请选择原因。</source>
        <translation>Please choose a reason.</translation>
    </message>
    <message>
        <source>选择“其他”时请写明原因。</source>
        <translation>With “Other”, please write the reason.</translation>
    </message>
</context>
<context>
    <name>ServiceDialog</name>
    <message>
        <source>确认（回车）</source>
        <translation>Confirm (Enter)</translation>
    </message>
    <message>
        <source>取消（Esc）</source>
        <translation>Cancel (Esc)</translation>
    </message>
</context>
<context>
    <name>SetPasswordDialog</name>
    <message>
        <source>修改密码</source>
        <translation>Set password</translation>
    </message>
    <message>
        <source>操作员</source>
        <translation>Operator</translation>
    </message>
</context>
<context>
    <name>SetupDialog</name>
    <message>
        <source>Booth 首次设置</source>
        <translation>Booth first-time setup</translation>
    </message>
    <message>
        <source>首次使用：设置本岗亭</source>
        <translation>First start: set up this booth</translation>
    </message>
    <message>
        <source>还没有配置文件。填好车场、泊链和车道后保存，配置写入 {0}，然后启动。收费标准等其余设置先用默认值，以后可在该文件中修改。</source>
        <translation>There is no configuration yet. Fill in the park, Bolink and the lanes, then save: it is written to {0} and Booth starts. The tariff and the other settings take their defaults until you change them in that file.</translation>
    </message>
    <message>
        <source>添加车道（Ctrl+N）</source>
        <translation>Add lane (Ctrl+N)</translation>
    </message>
    <message>
        <source>相机推送端口</source>
        <translation>Camera push port</translation>
    </message>
    <message>
        <source>各车道的车牌相机把识别结果推送到本机的这个端口</source>
        <translation>the lanes&apos; plate cameras send their reads to this port of this PC</translation>
    </message>
    <message>
        <source>保存并启动（回车）</source>
        <translation>Save and start (Enter)</translation>
    </message>
    <message>
        <source>取消（Esc）</source>
        <translation>Cancel (Esc)</translation>
    </message>
    <message>
        <source>界面语言</source>
        <translation>Language</translation>
    </message>
    <message>
        <source>车场与泊链</source>
        <translation>Park and Bolink</translation>
    </message>
    <message>
        <source>车场编号 park_id</source>
        <translation>Park (park_id)</translation>
    </message>
    <message>
        <source>泊链分配</source>
        <translation>from Bolink</translation>
    </message>
    <message>
        <source>平台编号 union_id</source>
        <translation>Platform (union_id)</translation>
    </message>
    <message>
        <source>车场名称</source>
        <translation>Park name</translation>
    </message>
    <message>
        <source>车位数</source>
        <translation>Spaces</translation>
    </message>
    <message>
        <source>岗亭编号 local_id</source>
        <translation>Booth (local_id)</translation>
    </message>
    <message>
        <source>泊链 SDK 地址</source>
        <translation>Bolink SDK URL</translation>
    </message>
    <message>
        <source>泊链接口地址</source>
        <translation>Bolink API URL</translation>
    </message>
    <message>
        <source>可不填</source>
        <translation>optional</translation>
    </message>
    <message>
        <source>泊链 ukey</source>
        <translation>Bolink ukey</translation>
    </message>
    <message>
        <source>ukey 不写入配置文件：填写则存入本机系统密钥库，不填则从环境变量 {0} 读取。</source>
        <translation>The ukey is never written to the file: typed here it is kept in this PC&apos;s keyring; left empty it is read from the environment variable {0}.</translation>
    </message>
    <message>
        <source>入口</source>
        <translation>Entrance</translation>
    </message>
    <message>
        <source>入口 {0}</source>
        <translation>Entrance {0}</translation>
    </message>
    <message>
        <source>出口</source>
        <translation>Exit</translation>
    </message>
    <message>
        <source>出口 {0}</source>
        <translation>Exit {0}</translation>
    </message>
    <message>
        <source>车道 {0} {1}</source>
        <translation>Lane {0} {1}</translation>
    </message>
    <message>
        <source>{0}：{1}</source>
        <translation>{0}: {1}</translation>
    </message>
    <message>
        <source>没有保存，请改正以下 {0} 处：</source>
        <translation>Not saved. Correct the following ({0}):</translation>
    </message>
    <message>
        <source>{0} 已经存在，没有覆盖它。请取消并重新启动 Booth，以使用这个文件。</source>
        <translation>{0} exists now and was left as it is: cancel and start Booth again to use it.</translation>
    </message>
    <message>
        <source>无法写入 {0}：{1}。没有保存任何内容。</source>
        <translation>{0} cannot be written ({1}): nothing was saved.</translation>
    </message>
    <message>
        <source>配置已保存，但系统密钥库无法保存 ukey，请在本机设置环境变量 {0}。按回车继续。</source>
        <translation>The configuration is saved, but the keyring would not keep the ukey: set the environment variable {0} on this PC. Press Enter to go on.</translation>
    </message>
    <message>
        <source>继续（回车）</source>
        <translation>Go on (Enter)</translation>
    </message>
</context>
<context>
    <name>VehicleEditDialog</name>
    <message>
        <source>添加车辆</source>
        <translation>Add a vehicle</translation>
    </message>
    <message>
        <source>修改 {plate}</source>
        <translation>Change {plate}</translation>
    </message>
    <message>
        <source>如 京A12345</source>
        <translation>e.g. 京A12345</translation>
    </message>
    <message>
        <source>YYYY-MM-DD，不填为长期有效</source>
        <translation>YYYY-MM-DD; empty for no end</translation>
    </message>
    <message>
        <source>保存</source>
        <translation>Save</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>车牌(&amp;P)</source>
        <translation>&amp;Plate</translation>
    </message>
    <message>
        <source>类型(&amp;K)</source>
        <translation>&amp;Kind</translation>
    </message>
    <message>
        <source>开始日期(&amp;F)</source>
        <translation>Valid &amp;from</translation>
    </message>
    <message>
        <source>结束日期(&amp;T)</source>
        <translation>Valid &amp;to</translation>
    </message>
    <message>
        <source>车主(&amp;O)</source>
        <translation>&amp;Owner</translation>
    </message>
    <message>
        <source>备注(&amp;N)</source>
        <translation>&amp;Note</translation>
    </message>
    <message>
        <source>车牌：</source>
        <translation>Plate: </translation>
    </message>
    <message>
        <source>车牌：{plate} 已在名单中，请在表中选中它修改</source>
        <translation>Plate: {plate} is already listed; select it in the table to change it</translation>
    </message>
    <message>
        <source>开始日期：</source>
        <translation>Valid from: </translation>
    </message>
    <message>
        <source>结束日期：</source>
        <translation>Valid to: </translation>
    </message>
</context>
<context>
    <name>VehicleLists</name>
    <message>
        <source>月卡</source>
        <translation>Month card</translation>
    </message>
    <message>
        <source>白名单</source>
        <translation>Whitelist</translation>
    </message>
    <message>
        <source>黑名单</source>
        <translation>Blacklist</translation>
    </message>
</context>
<context>
    <name>VehicleListsDialog</name>
    <message>
        <source>车辆名单</source>
        <translation>Vehicle lists</translation>
    </message>
    <message>
        <source>车牌或车主中的文字</source>
        <translation>Text in the plate or owner</translation>
    </message>
    <message>
        <source>全部</source>
        <translation>All</translation>
    </message>
    <message>
        <source>添加</source>
        <translation>Add</translation>
    </message>
    <message>
        <source>修改</source>
        <translation>Change</translation>
    </message>
    <message>
        <source>设为过期</source>
        <translation>Expire</translation>
    </message>
    <message>
        <source>删除</source>
        <translation>Delete</translation>
    </message>
    <message>
        <source>导入</source>
        <translation>Import</translation>
    </message>
    <message>
        <source>导出</source>
        <translation>Export</translation>
    </message>
    <message>
        <source>关闭 (Esc)</source>
        <translation>Close (Esc)</translation>
    </message>
    <message>
        <source>搜索(&amp;S)</source>
        <translation>&amp;Search</translation>
    </message>
    <message>
        <source>类型(&amp;K)</source>
        <translation>&amp;Kind</translation>
    </message>
    <message>
        <source>{plate} 已经过期了</source>
        <translation>{plate} has already expired</translation>
    </message>
    <message>
        <source>让 {plate}（{kind}）从今天起失效？结束日期将改为 {day}。</source>
        <translation>End {plate} ({kind}) from today? Its end date becomes {day}.</translation>
    </message>
    <message>
        <source>{plate} 已设为过期</source>
        <translation>{plate} has expired</translation>
    </message>
    <message>
        <source>从{kind}中删除 {plate}？</source>
        <translation>Delete {plate} from the {kind} list?</translation>
    </message>
    <message>
        <source>导入车辆名单</source>
        <translation>Import vehicle lists</translation>
    </message>
    <message>
        <source>导出车辆名单</source>
        <translation>Export vehicle lists</translation>
    </message>
    <message>
        <source>CSV 文件 (*.csv)</source>
        <translation>CSV files (*.csv)</translation>
    </message>
    <message>
        <source>所有文件 (*)</source>
        <translation>All files (*)</translation>
    </message>
    <message>
        <source>车辆名单-{day}.csv</source>
        <translation>vehicles-{day}.csv</translation>
    </message>
    <message>
        <source>读不出车辆名单：{error}</source>
        <translation>The vehicle list cannot be read: {error}</translation>
    </message>
    <message>
        <source>{name} 有 {count} 处问题，一辆也没有导入：</source>
        <translation>{name} has {count} problems; no vehicle was imported:</translation>
    </message>
    <message>
        <source>{name} 里没有车辆</source>
        <translation>{name} has no vehicles</translation>
    </message>
    <message>
        <source>从 {name} 导入 {count} 辆车：新增 {new} 辆，替换已有的 {replacing} 辆。</source>
        <translation>Import {count} vehicles from {name}: {new} new, {replacing} replacing ones already listed.</translation>
    </message>
    <message>
        <source>已从 {name} 导入 {count} 辆车</source>
        <translation>Imported {count} vehicles from {name}</translation>
    </message>
    <message>
        <source>写不了文件 {path}：{error}</source>
        <translation>Cannot write {path}: {error}</translation>
    </message>
    <message>
        <source>已导出 {count} 辆车到 {path}</source>
        <translation>Exported {count} vehicles to {path}</translation>
    </message>
    <message>
        <source>没有保存：{error}</source>
        <translation>Not saved: {error}</translation>
    </message>
    <message>
        <source>没有删除：{error}</source>
        <translation>Not deleted: {error}</translation>
    </message>
    <message>
        <source>已删除 {plate}</source>
        <translation>Deleted {plate}</translation>
    </message>
    <message>
        <source>只有管理员可以修改车辆名单</source>
        <translation>Only administrators can change the vehicle lists</translation>
    </message>
    <message>
        <source>请先在表中选中一辆车</source>
        <translation>Select a vehicle in the table first</translation>
    </message>
    <message>
        <source>已添加 {plate}</source>
        <translation>Added {plate}</translation>
    </message>
    <message>
        <source>已修改 {plate}</source>
        <translation>Changed {plate}</translation>
    </message>
    <message>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
</context>
<context>
    <name>VehicleTableModel</name>
    <message>
        <source>车牌</source>
        <translation>Plate</translation>
    </message>
    <message>
        <source>类型</source>
        <translation>Kind</translation>
    </message>
    <message>
        <source>开始</source>
        <translation>From</translation>
    </message>
    <message>
        <source>结束</source>
        <translation>To</translation>
    </message>
    <message>
        <source>状态</source>
        <translation>State</translation>
    </message>
    <message>
        <source>车主</source>
        <translation>Owner</translation>
    </message>
    <message>
        <source>备注</source>
        <translation>Note</translation>
    </message>
    <message>
        <source>有效</source>
        <translation>Valid</translation>
    </message>
    <message>
        <source>未生效</source>
        <translation>Not yet valid</translation>
    </message>
    <message>
        <source>已过期</source>
        <translation>Expired</translation>
    </message>
</context>
<context>
    <name>_StaffDialog</name>
    <message>
        <source>取消（Esc）</source>
        <translation>Cancel (Esc)</translation>
    </message>
</context>
</TS>
